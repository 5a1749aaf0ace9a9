"""A synthetic multilingual emotional speech corpus, synthesised locally with eSpeak NG.

``languages`` (voices, sentences), ``profiles`` (emotions, the planted lineage effect), ``espeak`` (the engine),
``render`` (one utterance), ``build`` (the cached corpus; what is in it) and ``__main__`` (``hf-ser synthetic``).
"""
