"""``hf-ser recipe NAME [--key value ...]``: run one of the paper's experiments.

A recipe is ``recipes/NAME.yaml`` on top of ``recipes/defaults.yaml`` (the paper's
hyper-parameters) and, with ``--demo``, ``recipes/demo.yaml``; command-line keys win.
Every key is a field of one of the argument dataclasses (model, data, loss/SER, few-shot, grid,
launcher: ``hf-ser recipe NAME --help`` lists them with the recipe's values) or of
``transformers.TrainingArguments`` (``hf-ser recipe NAME --help_all``), parsed by ``HfArgumentParser``.
Each run writes ``<output_dir>/<run>/metrics.json`` and ``model/``.
"""
