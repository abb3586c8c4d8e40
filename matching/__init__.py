"""JakMentor's matching core: a pure library that scores, ranks, assigns and schedules mentor pairs.

It depends on numpy, scipy, scikit-learn, OR-Tools, holidays and the standard library only, so it
runs on CSV files, in tests and in benchmarks without a database or the web application.
"""
