"""Problem types: the documentation a problem's `type` (`/problems/<slug>`) leads to, from the spec's catalogue."""

from exitus.errors import PROBLEM_TYPE_PREFIX, NotFound, problem_types


def get_problem_type(slug):
    entry = problem_types().get(slug)
    if entry is None:
        raise NotFound(f"no problem type {slug!r}")
    return {
        "type": PROBLEM_TYPE_PREFIX + slug,
        "title": entry["title"],
        "status": entry["status"],
        "description": " ".join(entry["description"].split()),
    }
