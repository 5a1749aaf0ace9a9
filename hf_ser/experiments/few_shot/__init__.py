"""Few-shot adaptation to a language the model never saw (the paper's Conclusion), with its curve.

``hf-ser recipe few_shot --base RUN_DIR --language CODE --shots 1 5 10 20``; :mod:`.run` says what it does.
"""
