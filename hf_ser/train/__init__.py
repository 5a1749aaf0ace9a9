"""The training stage: the stock model and its backbones, losses, the corpus-balanced sampler, the
Trainer and the run record. It imports the core and the data stage.
"""
