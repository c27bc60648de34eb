"""The "Your data" section (hosted mode): what the server keeps, where, for how long, and who can see it.

Every sentence is about the code as it is; `tests/robustness/test_privacy.py` checks the claims a
test can check (nothing a visitor draws or uploads on Predict reaches the disk; the workspace
key is never stored; the hours follow `CNNLAB_RUN_HOURS`).
"""

from __future__ import annotations

import streamlit as st

from core.store.hosting import Limits
from ui.hosting import limits


def your_data_text(caps: Limits) -> str:
    """The section's Markdown for the caps in force."""
    hours = f"{caps.run_hours:g} hours" if caps.run_hours is not None else "until you delete them"
    return f"""
**What is stored, and where.** On this server's disk (its model store):
- your **runs**: each model file with its settings, training curves and test scores, kept for {hours} after it
  was saved, then deleted (download any you want to keep from **Models**);
- your **workspace record**: a one-way hash of your private key (never the key itself), when you last used
  it, your latest training job, and, if you joined a class, the class and your nickname. It goes once it
  has been unused for {hours} and no run of yours is left;
- while a run **trains**, its settings, progress and log sit in a job folder, removed {hours} after the job;
- a **class** (name, join code, nicknames, shared runs) until {hours} after its teacher closes it;
- **your own classes** (My classes): their names and every drawing and photo you add, shrunk to the size you
  chose, in your workspace only. Delete one example or all of them on **My classes** at any time; they expire
  with your workspace (unused for {hours}, with no run left). Photos from the camera are taken in your browser
  and sent only to this server, into your workspace; nothing else keeps them. If you share your classes with
  the class you teach, your students can train on them and see them, not change them.

**What is not kept.** Drawings and images you upload on **Predict** and the **Playground** are processed in
the server's memory and never written to disk. An image folder you upload on the **Dataset Explorer** stays in
your browser session's memory and is gone when you close the tab, unless you train on it: then a copy of its
images goes with the training job (in its job folder, or the job queue) and is removed with the job. A model
file you upload on **Models** is checked in a temporary folder, deleted at once; if it passes, it is one of your
runs.

**Who can see it.**
- **You**, and anyone you give your private link to.
- **Your teacher**, if you joined a class: your nickname, your runs and their scores, and your training live.
- **Your class**: only the runs your teacher shares, shown with your nickname; the leaderboard shows each
  classmate only their own rank.
- The people who run this server can read its disk.
"""


def your_data() -> None:
    """The section, in an expander (hosted mode only)."""
    caps = limits()
    if not caps.hosted:
        return
    with st.expander("Your data", icon=":material/shield_person:"):
        st.markdown(your_data_text(caps))
