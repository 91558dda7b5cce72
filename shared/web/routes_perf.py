"""The performance page and its CTR plot."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from shared.web.plot import ctr_plot
from shared.web.security import User, current_user

router = APIRouter()
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
    png = ctr_plot(series)
    if png is None:
        return Response(status_code=204)
    return Response(png, media_type="image/png", headers={"Cache-Control": "private, max-age=60"})
