"""Dataset versions are content hashes: same content, same version, whatever run or process logs it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ridgeline.services.dataset_description import describe


def frame() -> pd.DataFrame:
    return pd.DataFrame({"age": [31, 45, None, 22], "city": ["paris", "rome", "paris", None], "y": [1, 0, 1, 1]})


def test_the_same_frame_is_the_same_version_and_any_change_is_another() -> None:
    first, again = describe(frame()), describe(frame())
    assert first.digest == again.digest and len(first.digest) == 64
    changed = frame()
    changed.loc[0, "age"] = 32
    renamed = frame().rename(columns={"y": "label"})
    retyped = frame().astype({"y": "float64"})
    reordered = frame().iloc[::-1]
    digests = {describe(other).digest for other in (changed, renamed, retyped, reordered)}
    assert first.digest not in digests and len(digests) == 4
    assert first.rows == 4 and first.kind == "dataframe"
    # pandas 3 types text columns "str", older pandas "object": only the names and numeric types are pinned.
    assert [column["name"] for column in first.schema] == ["age", "city", "y"]
    assert [first.schema[0]["dtype"], first.schema[2]["dtype"]] == ["float64", "int64"]
    profile = first.profile
    assert profile is not None and [c["missing"] for c in profile["columns"]] == [1, 1, 0]


def test_the_version_is_stable_across_processes() -> None:
    script = (
        "import pandas as pd; from ridgeline.services.dataset_description import describe;"
        "print(describe(pd.DataFrame({'a': [1, 2, 3], 'b': ['x', 'y', 'z']})).digest)"
    )
    outputs = {
        subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
        for _ in range(2)
    }
    assert len(outputs) == 1
    assert outputs.pop().strip() == describe(pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"]})).digest


def test_arrays_tuples_and_dicts() -> None:
    x = np.arange(12, dtype=np.float32).reshape(4, 3)
    y = np.array([0, 1, 0, 1])
    pair = describe((x, y))
    assert pair.digest == describe((x.copy(), y.copy())).digest
    assert pair.digest != describe((x, y[::-1].copy())).digest
    assert pair.digest != describe((x.astype(np.float64), y)).digest
    assert pair.rows == 4 and pair.kind == "arrays"
    assert pair.profile is not None and [c["name"] for c in pair.profile["columns"]] == [
        "array_0[0]",
        "array_0[1]",
        "array_0[2]",
        "array_1",
    ]
    assert describe({"features": x}).schema == [{"name": "features", "dtype": "float32", "shape": "4x3"}]
    # Object arrays hash their values, not the pointers to them.
    labels = np.array(["cat", "dog", None], dtype=object)
    assert describe(labels).digest == describe(np.array(["cat", "dog", None], dtype=object)).digest


def test_files_and_folders_hash_their_content(tmp_path: Path) -> None:
    table = tmp_path / "data" / "train.csv"
    table.parent.mkdir()
    table.write_text("a,b\n1,x\n2,y\n")
    (tmp_path / "data" / "notes.txt").write_text("hello")
    single = describe(table)
    assert single.kind == "files" and single.rows == 2 and single.source == str(table.resolve())
    assert single.profile is not None and single.schema[0]["name"] == "a"
    folder = describe(tmp_path / "data", source="s3://bucket/data/")
    assert folder.source == "s3://bucket/data/" and [f["path"] for f in folder.files] == ["notes.txt", "train.csv"]
    assert folder.size_bytes == len("a,b\n1,x\n2,y\n") + 5
    copy = tmp_path / "copy"
    copy.mkdir()
    for item in folder.files:
        (copy / item["path"]).write_bytes((tmp_path / "data" / item["path"]).read_bytes())
    assert describe(copy).digest == folder.digest
    (copy / "notes.txt").write_text("hello!")
    assert describe(copy).digest != folder.digest


def test_unsupported_data_and_missing_paths_are_refused_clearly(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="DataFrame, numpy arrays or a file path"):
        describe({"a": [1, 2]})
    with pytest.raises(FileNotFoundError, match="no such file"):
        describe(tmp_path / "missing.csv")
