"""Use cases: plain functions that take a Session, may flush, never commit, and never import Flask."""
