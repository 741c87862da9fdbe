"""The prosody layer of ZTTS1-Eval: TTSDS2-style distribution scores (distances of generated
speech to real speech, normalized by distances to noise) and their per-utterance features."""
