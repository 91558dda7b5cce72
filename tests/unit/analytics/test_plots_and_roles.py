"""Plot helpers return PNG bytes or None; analyst role names are validated before any SQL."""

from __future__ import annotations

import pytest

from shared.analytics import plots
from shared.analytics.roles import RoleError, validate_role_name
from shared.analytics.sources import check_expiry

PNG = b"\x89PNG\r\n\x1a\n"


def test_plots_render_png_or_none_without_data() -> None:
    assert plots.score_histograms({"alignment": [0.1, 0.5, 0.9], "psnr_ref": [20.0]})[:8] == PNG
    assert plots.model_comparison({"m1": {"a": 0.2}, "m2": {"a": 0.4, "b": 30.0}})[:8] == PNG
    assert plots.timing_boxplot({"generate": [100.0, 300.0], "upload": [0.0]})[:8] == PNG
    assert plots.score_histograms({"alignment": []}) is None
    assert plots.model_comparison({}) is None
    assert plots.timing_boxplot({}) is None


@pytest.mark.parametrize("name", ["adgen_analyst", "_x", "a" * 63, "team_7"])
def test_valid_role_names(name: str) -> None:
    assert validate_role_name(name) == name


@pytest.mark.parametrize(
    "name",
    [
        "",
        "Analyst",
        "7up",
        "a-b",
        'x"; DROP ROLE postgres; --',
        "a" * 64,
        "pg_monitor",
        "public",
        "postgres",
        "ana lyst",
    ],
)
def test_invalid_role_names(name: str) -> None:
    with pytest.raises(RoleError):
        validate_role_name(name)


@pytest.mark.parametrize("expiry", [0, 59, 7 * 24 * 3600 + 1])
def test_presign_expiry_is_bounded(expiry: int) -> None:
    with pytest.raises(ValueError):
        check_expiry(expiry)
