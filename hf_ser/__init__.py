"""hf_ser: multilingual and cross-lingual speech emotion recognition on Hugging Face."""

__version__ = "0.1.0"
