"""Text rules that decide WER: versioned normalizers (each named after the reference it
reproduces) and the per-utterance error counts."""
