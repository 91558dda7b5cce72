"""The performance page and its CTR plot."""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from shared.web.plot import ctr_plot
from shared.web.security import User, current_user

router = APIRouter()
Series = tuple[tuple[str, tuple[tuple[date, int, int], ...]], ...]


@lru_cache(maxsize=64)
def _plot(series: Series) -> bytes | None:
    # Drawing costs ~100x the query; the data only change when the feedback loop rolls up.
    return ctr_plot({name: list(points) for name, points in series})


Campaign = Annotated[str | None, Query(max_length=128)]


@router.get("/performance")
def performance_page(
    request: Request, user: Annotated[User, Depends(current_user)], campaign: Campaign = None
) -> Response:
    from shared.review.performance import performance

    web = request.app.state.web
    with web.db() as s:
        perf = performance(session=s, campaign=campaign or None)
    return web.render(request, "performance.html", perf=perf, campaign=campaign or "")


@router.get("/performance/ctr.png")
def ctr_png(
    request: Request, user: Annotated[User, Depends(current_user)], campaign: Campaign = None
) -> Response:
    from shared.review.performance import daily_series

    web = request.app.state.web
    with web.db() as s:
        series = daily_series(session=s, campaign=campaign or None)
    key = tuple((name, tuple(points)) for name, points in sorted(series.items()))
    png = _plot(key)
    if png is None:
        return Response(status_code=204)
    return Response(png, media_type="image/png", headers={"Cache-Control": "private, max-age=60"})
