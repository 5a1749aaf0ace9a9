"""``hf-ser report``: the paper's Tables 2 and 3 and the Section 4.3 lineage claim check from a folder of runs.

The command is :mod:`hf_ser.study.report.__main__`; each sub-module holds one step (runs, seeds, tables, render,
heatmap, claims, claim_text, provenance).
"""
