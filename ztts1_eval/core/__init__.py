"""Foundations every stage uses, with no knowledge of systems, scorers or tables: audio I/O and
checks, atomic writes, the run-directory layout, where configs live, provenance, the registry
mechanism, statistics and time limits."""
