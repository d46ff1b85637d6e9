"""Reflection: the "sleep-time" mind. It turns episodes into thoughts, persona facts
and typed links, keeps them true over time (supersession, merging, fading) and records
every change so it can be inspected and undone.

    engine.py      the interface both engines implement, and the values they exchange
    attributes.py  the persona schema: which attributes exist, one value or many
    dates.py       "next Friday" -> a date, against the episode's own date
    extract.py     the builtin engine's fact extraction (rules, no model), with its
                   rule tables (patterns.py), word lists (lexicon.py), value cleaners
                   (values.py)
    note_fields.py the builtin engine's facts from "Key: value" lines of people notes
    answer.py      the builtin engine's extractive answer
    builtin.py     the builtin engine
    ollama_engine.py  the ollama engine (official client, JSON schema, repair, fallback),
                   with its schemas and spotlighted prompts (prompts.py)
    changes.py     the change history and undo
    persona.py     facts: supersession, conflicts, user edits
    thoughts.py    thoughts: insert / merge / archive
    links.py       typed links from new memories to earlier ones
    run.py         the checkpointed reflection pass (`me reflect`)
"""
