"""``hf-ser predict``: label the emotion of audio files over time. The command is in ``__main__``; the
inputs, the model, the segment-by-segment predictor, the output rows and the timeline plot each have a module.
"""
