"""Scorers: one job each (content, speaker similarity, quality...), behind :class:`Scorer`.

Add one: subclass :class:`ztts1_eval.scorers.base.Scorer`, register it in
:data:`ztts1_eval.scorers.registry.SCORERS`, and reference it in a ``conf/scorers/*.yaml``.
"""
