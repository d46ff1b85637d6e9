"""Derived memory: what reflection, the user and ask concluded from episodes, stored
beside them and always traceable to them. The reflection engines only propose
(`proposals.py`); these modules decide, store and record. The service, ask, forget,
the CLI and later the timeline and the TUI read and edit derived memory here.

    proposals.py   candidate facts and thoughts, as engines propose them
    attributes.py  the persona schema: which attributes exist, one value or many
    persona.py     facts: supersession, conflicts, user edits
    thoughts.py    thoughts: insert / merge / archive
    links.py       typed links from newer memories to earlier ones
    evidence.py    sensitivity and trust inherited from the evidence
    changes.py     the change history and undo
"""
