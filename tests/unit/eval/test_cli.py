from __future__ import annotations

from typer.testing import CliRunner

from workers.cli.eval_cmd import app


def test_eval_cli_has_train_and_run() -> None:
    runner = CliRunner()
    for command, option in (("train", "--steps"), ("run", "--samples")):
        result = runner.invoke(app, [command, "--help"])
        assert result.exit_code == 0, result.output
        assert option in result.output


def test_run_requires_data() -> None:
    result = CliRunner().invoke(app, ["run"])
    assert result.exit_code != 0
