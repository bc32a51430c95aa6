"""The UI's asset table: what it serves, how Plotly is made CSP-safe, and the module graph behind preloads."""

from __future__ import annotations

from pathlib import Path

import pytest

from ridgeline.server.ui.assets import PLOTLY_CSS, PLOTLY_JS, Assets, plotly_rules


def test_plotly_stylesheet_and_guards_come_from_the_installed_bundle() -> None:
    assets = Assets()
    css = assets.get(PLOTLY_CSS)
    script = assets.get(PLOTLY_JS)
    assert css is not None and script is not None
    text = css.body.decode()
    # The rules Plotly would inject, expanded the way Plotly expands them.
    assert ".js-plotly-plot .plotly .main-svg{" in text
    assert ".js-plotly-plot .plotly .modebar" in text
    assert "X," not in text
    assert text.count("{") == text.count("}") > 40
    assert assets.plotly.guard_ids, "the bundle's self-injecting stylesheets (MapLibre) need a guard element"
    assert all(len(guard) == 64 for guard in assets.plotly.guard_ids)


def test_a_bundle_without_the_style_table_is_refused_loudly() -> None:
    with pytest.raises(RuntimeError, match="style table"):
        plotly_rules("console.log('not plotly')")


def test_only_files_found_at_start_up_are_served(tmp_path: Path) -> None:
    (tmp_path / "js").mkdir()
    (tmp_path / "js" / "page.js").write_text('import { a } from "./lib.js";\nimport {\n  b,\n} from "./other.js";\n')
    (tmp_path / "js" / "lib.js").write_text('import { c } from "./deep.js";\nexport const a = 1;\n')
    (tmp_path / "js" / "other.js").write_text("export const b = 2;\n")
    (tmp_path / "js" / "deep.js").write_text('export const c = 3;\nconst later = import("./lazy.js");\n')
    (tmp_path / "style.css").write_text("body{}")
    assets = Assets(tmp_path)
    assert set(assets.files) == {"js/page.js", "js/lib.js", "js/other.js", "js/deep.js", "style.css"}
    assert assets.get("../style.css") is None
    assert assets.get("js/../style.css") is None
    assert assets.files["style.css"].media_type == "text/css"
    # Static imports, however deep and however written; dynamic import() stays a run-time matter.
    assert sorted(assets.module_imports("page.js")) == ["deep.js", "lib.js", "other.js"]
    assert assets.url("style.css") == f"/static/{assets.build}/style.css"
    with pytest.raises(KeyError):
        assets.url("missing.js")


def test_the_build_changes_with_the_content(tmp_path: Path) -> None:
    (tmp_path / "a.css").write_text("body{}")
    before = Assets(tmp_path).build
    (tmp_path / "a.css").write_text("body{color:red}")
    assert Assets(tmp_path).build != before
