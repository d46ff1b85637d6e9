"""Privacy layers: which keyrings are trusted, sensitivity, release rules, audit, retention."""
