"""Model code that papers define and no maintained package ships without torchaudio.

Written by hand on purpose: the official implementations import torchaudio, which has no wheel
that works with the CPU torch this project installs (see the shared library notes). Each module
reproduces its official layout exactly, so the released state dicts load with strict key matching.
"""
