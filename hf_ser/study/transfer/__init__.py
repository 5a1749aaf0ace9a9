"""Transfer measured against linguistic distance (issue 27): which languages to train on.

- :mod:`.distances` — URIEL+ distances (genetic, geographic, syntactic, phonological, inventory, featural) and the
  paper's binary lineage for any ISO 639-3 codes, with an explicit rule for URIEL+'s missing values and a cache.
- :mod:`.acoustic` — the corpus control: a distance between corpora's recordings that knows nothing of language.
- :mod:`.model` — T(s, t) = a_s + b_t + sum_k beta_k d_k(s, t) + e, MRQAP permutation p-values, Mantel r, Holm.
- :mod:`.simulate` — simulated transfer grids on the real distances: false-positive rate and power.
- :mod:`.sources` — rank the available source languages (or corpora) for a target language.
"""
