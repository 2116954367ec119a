"""Roster benchmark: page query counts and timings on a big agency, and policy check cost vs casbin.

Run as `python -m bench` (or `make bench`); see `bench/__main__.py` for the flags. The results are
printed and written to `bench-results/latest.txt`. The exit status is non-zero when a page's query
count on the big database differs from the small one (the bounded-queries contract of DESIGN.md),
when a page answers with an unexpected status, when moving media items takes other than one UPDATE
of media_items, when moving a social set with 5,000 posts (its preview, apply or Undo) runs other
counts of statements than with 10 or leaves posts behind, or when the policy and casbin disagree.
"""
