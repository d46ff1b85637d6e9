"""Reflection: the "sleep-time" mind. Engines read episodes and propose persona facts,
thoughts and typed links; the pass hands each proposal to derived memory
(`assistant/derived/`), which decides what is new, a supersession or a merge, and
records it so it can be inspected and undone. The only rows written here are the
pass's own bookkeeping on episodes (checkpoint, quarantine).

    engine.py      the interface both engines implement, and the values they exchange
    dates.py       "next Friday" -> a date, against the episode's own date
    extract.py     the builtin engine's fact extraction (rules, no model), with its
                   rule tables (patterns.py), word lists (lexicon.py), value cleaners
                   (values.py)
    note_fields.py the builtin engine's facts from "Key: value" lines of people notes
    answer.py      the builtin engine's extractive answer
    builtin.py     the builtin engine
    ollama_engine.py  the ollama engine (official client, JSON schema, repair, fallback),
                   with its schemas and spotlighted prompts (prompts.py)
    linking.py     which earlier memories a new one links to, and the link's label
    run.py         the checkpointed reflection pass (`me reflect`)
"""
