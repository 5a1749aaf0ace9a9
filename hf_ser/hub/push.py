"""The upload: a run staged and sent to the Hub in one commit (:func:`push_run`), with the failures named
(no token, refused, unreachable), and the repo id of each run of a recipe.

Tokens are read by ``huggingface_hub`` itself (``hf auth login`` or ``HF_TOKEN``) or passed in memory by the recipe
(``--hub_token``, which never reaches the Trainer); this module never prints or writes one.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import httpx2
from huggingface_hub import HfApi, get_token
from huggingface_hub.errors import HfHubHTTPError, LocalTokenNotFoundError

from hf_ser.hub.card import pct
from hf_ser.hub.errors import HubError, HubUnreachable
from hf_ser.hub.gap import PIPELINE_CHECK_FILES
from hf_ser.hub.run_folder import find_run_dir, load_metrics, model_files
from hf_ser.hub.stage import stage_run
from hf_ser.train.runs import STAGING_MARKER

# "The Hub could not be reached": huggingface_hub >= 2 talks to it through httpx2 (setup.cfg requires it).
NETWORK_ERRORS = (ConnectionError, TimeoutError, httpx2.TransportError)


def _login_hint() -> str:
    """How to log in to the Hub (the end of every missing- or refused-token message)."""
    return (
        "log in with `hf auth login` (a token with write access from https://huggingface.co/settings/tokens) "
        "or set the HF_TOKEN environment variable"
    )


def _upload(api: HfApi, staged: Path, repo_id: str, private: bool, revision: str | None, message: str) -> str:
    """Create the repo (and the branch `revision`) if needed and upload `staged` in one commit; returns its URL."""
    url = api.create_repo(repo_id, private=private, exist_ok=True, repo_type="model")
    full_id = getattr(url, "repo_id", None) or repo_id
    if revision and revision != "main":
        api.create_branch(full_id, branch=revision, exist_ok=True, repo_type="model")
    info = api.upload_folder(
        repo_id=full_id,
        folder_path=str(staged),
        commit_message=message,
        revision=revision,
        repo_type="model",
        ignore_patterns=[STAGING_MARKER],
    )
    return str(getattr(info, "commit_url", None) or getattr(url, "url", None) or f"https://huggingface.co/{full_id}")


def push_run(
    run_dir: str | Path,
    repo_id: str,
    private: bool = False,
    revision: str | None = None,
    dry_run: bool = False,
    output_dir: str | Path | None = None,
    api: HfApi | None = None,
    token: str | None = None,
    pipeline_files: int = PIPELINE_CHECK_FILES,
) -> Path | str:
    """Upload a finished run to `repo_id` in one commit and return the commit URL.

    With ``dry_run`` write the folder that would be uploaded to `output_dir` (default ``RUN_DIR/hub``) and return its
    path. `token` (kept in memory only) overrides the stored login. `pipeline_files`: test files the card's
    ``pipeline()`` check classifies (0: skip it; the card then says it was not measured).
    """
    run_dir = find_run_dir(run_dir)
    if not repo_id or repo_id.count("/") > 1 or not re.match(r"^[\w./-]+$", repo_id):
        raise HubError(f"--repo_id {repo_id!r} is not a Hub model id; use USER/NAME or ORG/NAME")
    if dry_run:
        return stage_run(run_dir, repo_id, Path(output_dir) if output_dir else run_dir / "hub", pipeline_files)
    metrics = load_metrics(run_dir)
    model_files(run_dir)  # fail on an incomplete run before asking about tokens
    if (token or get_token()) is None:
        raise HubError(
            f"no Hugging Face token found: {_login_hint()}. Nothing was uploaded; `--dry_run` shows what would be."
        )
    uar = metrics.get("metrics", {}).get("all", {}).get("uar")
    message = f"hf_ser: {metrics.get('run', run_dir.name)}" + (f" (UAR {pct(uar)}%)" if uar is not None else "")
    api = api if api is not None else HfApi(token=token)
    with tempfile.TemporaryDirectory(prefix="hf_ser_push_") as tmp:
        try:
            if "/" not in repo_id:  # a bare name goes to the token owner's namespace, as create_repo would do
                repo_id = f"{api.whoami()['name']}/{repo_id}"
            staged = stage_run(run_dir, repo_id, Path(tmp) / "upload", pipeline_files)
            return _upload(api, staged, repo_id, private, revision, message)
        except LocalTokenNotFoundError:
            raise HubError(f"no Hugging Face token found: {_login_hint()}") from None
        except HfHubHTTPError as e:
            status = getattr(getattr(e, "response", None), "status_code", None)
            if status in (401, 403):
                raise HubError(
                    f"the Hub refused the upload to {repo_id} (HTTP {status}): the token is invalid, read-only, or "
                    f"may not write to the namespace {repo_id.split('/')[0]!r}; {_login_hint()}. "
                    f"The run folder {run_dir} is unchanged."
                ) from None
            raise HubUnreachable(
                f"the Hub answered HTTP {status} for {repo_id}: {e.server_message or e}. "
                f"The run folder {run_dir} is unchanged; try again later."
            ) from None
        except NETWORK_ERRORS as e:
            raise HubUnreachable(
                f"could not reach the Hugging Face Hub ({type(e).__name__}: {e}). Check the network or proxy, or unset "
                f"HF_HUB_OFFLINE. Nothing was uploaded and the run folder {run_dir} is unchanged; `--dry_run "
                "--output_dir DIR` "
                f"writes the upload folder, which `hf upload {repo_id} DIR` can send later."
            ) from None


def hub_repo_for_run(hub_model_id: str, run_name: str, n_runs: int) -> str:
    """Repo id for one run of a recipe: `hub_model_id` itself for a single run, `hub_model_id-RUN` otherwise."""
    return hub_model_id if n_runs == 1 else f"{hub_model_id}-{run_name}"
