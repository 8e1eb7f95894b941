"""How a legend shortens a run label (core.figures.short_label / short_labels): whole parts
go from the end into "+N more", so the part that tells runs apart first stays readable (the
middle cut read "spectral off ->…e, +2 more" for "spectral off -> on @300, ..."), and two
runs never read the same where their ends differ."""

from __future__ import annotations

from core.figures import short_label, short_labels

SWITCHED = "spectral off -> on @300, batch_size 256, loss bce, +2 more"


def test_a_run_label_loses_whole_parts_from_its_end():
    assert short_label("spectral on", 26) == "spectral on"
    assert short_label("spectral off, batch_size 256, loss hinge, +2 more", 26) == \
        "spectral off, +4 more"
    assert short_label(SWITCHED, 26) == "spectral off -> on @300, …"
    assert short_label("spectral on, batch_size 128, loss bce, +2 more (2)", 26) == \
        "spectral on, +4 more (2)"  # the number of a repeated label stays
    assert short_label("one long label without any separating comma at all", 20) == \
        "one long la…a at all"


def test_labels_that_would_read_the_same_keep_their_ends():
    labels = ["spectral off, batch_size 256, loss hinge",
              "spectral off, batch_size 128, loss bce", "spectral on, batch_size 128, loss bce"]
    texts = short_labels(labels, 24)
    assert texts[2] == "spectral on, +2 more"
    assert texts[0] != texts[1] and texts[0].endswith("loss hinge")
    assert all(len(t) <= 24 for t in texts)
