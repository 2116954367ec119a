"""Roster benchmark: page query counts, timings and bytes on a big agency, policy check cost vs casbin,
and the calendar at three densities.

Run as `python -m bench` (or `make bench`); see `bench/__main__.py` for the flags. The results are
printed and written to `bench-results/latest.txt` (`--only calendar`: `bench-results/calendar.txt`).
The exit status is non-zero when a page's query count on the big database differs from the small one
(the bounded-queries contract of DESIGN.md), when a page answers with an unexpected status, when
moving media items takes other than one UPDATE of media_items, when moving a social set with 5,000
posts (its preview, apply or Undo) runs other counts of statements than with 10 or leaves posts
behind, when the policy and casbin disagree, or when a calendar view fails, runs other counts of
statements at 5,000 posts in a month than at 100, or shows a day with a wrong post count. Times,
sizes and growth over their budgets are flagged in the report, not failed: they depend on the machine.
"""
