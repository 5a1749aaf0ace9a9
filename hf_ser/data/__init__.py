"""The data stage: corpora and their layouts, audio decoding and preparation, splits, EmoBox folds and
the train/test datasets. It imports the core (hf_ser's top-level modules) and nothing else of hf_ser.
"""
