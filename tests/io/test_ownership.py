"""Output-folder ownership and result keys."""
from __future__ import annotations

import pytest

from aot_plus.io.ownership import (MANIFEST_NAME, OutputFolderError, check_key, claim_folder, claim_outputs,
                                   file_key, forget_stale_files, owns, read_manifest, record_key)


def test_new_and_empty_folders_are_claimed(tmp_path):
    claim_folder(tmp_path / "new", "t")
    assert owns(tmp_path / "new") and (tmp_path / "new" / MANIFEST_NAME).is_file()
    (tmp_path / "empty").mkdir()
    claim_folder(tmp_path / "empty", "t")
    assert owns(tmp_path / "empty")
    assert claim_folder(tmp_path / "new", "t")["tool"] == "t"  # marked: may write again


def test_foreign_files_and_inputs_are_refused(tmp_path):
    user = tmp_path / "user"
    user.mkdir()
    (user / "thesis.tex").write_text("precious")
    with pytest.raises(OutputFolderError, match=r"already holds files this tool did not write \(thesis.tex\)"):
        claim_folder(user, "t")
    frames = tmp_path / "frames"
    frames.mkdir()
    for out in (frames, frames / "masks", tmp_path):
        with pytest.raises(OutputFolderError, match="overlaps the input"):
            claim_folder(out, "t", inputs=[frames])
    manifest = claim_folder(user, "t", force=True)
    assert manifest["adopted"] and not owns(user)
    assert (user / "thesis.tex").read_text() == "precious"


def test_keys_must_match(tmp_path):
    manifest = claim_folder(tmp_path / "r", "t")
    assert check_key(tmp_path / "r", manifest, {"a": 1}, "choose")
    manifest = record_key(tmp_path / "r", manifest, {"a": 1, "cfg": {"memory": "fifo"}})
    assert read_manifest(tmp_path / "r")["key"]["cfg"]["memory"] == "fifo"
    assert check_key(tmp_path / "r", manifest, {"a": 1, "cfg": {"memory": "fifo"}}, "choose")
    with pytest.raises(OutputFolderError, match=r"cfg.memory: fifo -> rmem\); use a new folder"):
        check_key(tmp_path / "r", manifest, {"a": 1, "cfg": {"memory": "rmem"}}, "use a new folder")


def test_output_files_outside_the_folder(tmp_path):
    movie = tmp_path / "movie.mp4"
    movie.write_bytes(b"the user's film")
    with pytest.raises(OutputFolderError, match="overlay file .*movie.mp4 already exists and was not written"):
        claim_outputs(tmp_path / "out", "t", files={"overlay": movie})
    with pytest.raises(OutputFolderError, match="overlaps the input"):
        claim_outputs(tmp_path / "out2", "t", inputs=[movie], files={"overlay": movie})
    manifest = claim_outputs(tmp_path / "out3", "t", files={"overlay": tmp_path / "new.mp4"})
    (tmp_path / "new.mp4").write_bytes(b"ours")
    forget_stale_files(tmp_path / "out3", manifest, [], overlay=file_key(tmp_path / "new.mp4"))
    claim_outputs(tmp_path / "out3", "t", files={"overlay": tmp_path / "new.mp4"})  # ours: may be replaced
