"""The ``publish`` pipeline stage: publish the station, which moves the episode to published."""

from __future__ import annotations

from hotline.errors import InvalidInput
from hotline.stages import StageContext
from hotline.timeutil import local_text


def publish_stage(ctx: StageContext) -> str:
    """Run the station's publish; the episode is listed once it is released.

    An episode whose release time is still ahead stays as it is (the job is done: a later
    ``hotline publish`` lists it when the time comes); a withdrawn one stays out of the
    feeds (its new master or transcript waits for its reinstatement). Failed feeds fail the job with
    every problem in its error.
    """
    from feeds.publish import publish

    ctx.progress(0.05, "publishing")
    # A publish that meets its database gone is done again from the start once it is back:
    # the public tree changes only by whole generations, so nothing is half-published.
    report = ctx.outlast(lambda: publish(station=ctx.station))
    if not report.ok:
        raise InvalidInput(
            f"{len(report.problems)} feed problems; the last good feeds stay: "
            + "; ".join(report.problems)
        )
    ctx.progress(1.0, "published")
    number = ctx.episode_number
    feeds = sum(feed.status != "failed" for feed in report.feeds)
    if number is None or number in report.listed:
        listed = len(report.listed)
        return (
            f"published: {listed} episode{'s' if listed != 1 else ''} in "
            f"{feeds} feed{'s' if feeds != 1 else ''}"
        )
    if number in report.withdrawn:
        return (
            f"episode {number} is withdrawn: no feed lists it until "
            f"`hotline episodes reinstate {number}`"
        )
    for waiting, when in report.waiting:
        if waiting == number:
            return (
                f"episode {number} is released at {local_text(when, ctx.station.tz)}; "
                "a later `hotline publish` lists it"
            )
    return f"episode {number} is not in the feeds (no master, or not aired yet)"
