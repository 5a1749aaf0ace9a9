"""Figures of the paper from trained runs, as PNGs with their numbers (JSON / CSV) beside them.

    hf-ser analysis layers RUN_DIR [--split test] [--model ID_OR_DIR]   # Fig. 1
    hf-ser analysis tsne RUN_DIR --layers 4 18                          # Fig. 2
    hf-ser analysis tsne RUN_DIR --space projector                      # Fig. 4
    hf-ser analysis confusion RUN_DIR                                   # Fig. 3
    hf-ser analysis all RUNS_DIR                                        # everything + index.md/html

Each single command writes into ``RUN_DIR/analysis/`` (or ``--output_dir``), its feature cache included
(``features/``, or ``--cache_dir``); ``all`` writes everything into ``RUNS_DIR/analysis/`` (or ``--output_dir``):
figures into ``<run>/``, feature caches into ``<run>/features/``. Run folders are only read. ``--no_progress``
turns the progress bars off. The sub-modules (``features``, ``layers``, ``tsne``, ``confusion``, ``index``) are
imported by whoever needs them; importing the package itself loads nothing heavy.
"""
