"""Eight clients at once against the real server's queue API (loopback only, bounded).

Each client must get its own result (its own note, its own session) in its own server-side
file, and the server must keep serving afterwards.
"""
import json
import urllib.request
from concurrent.futures import ThreadPoolExecutor

from gradio_client import Client

CLIENTS = 8


def call(base_url: str, note: str) -> tuple[str, dict, dict]:
    """One client's call: its session, the server's file descriptor, and the file's content."""
    client = Client(base_url + "/", verbose=False, download_files=False)
    file_data = client.predict(note, api_name="/environment")
    with urllib.request.urlopen(file_data["url"], timeout=30) as response:
        return client.session_hash, file_data, json.loads(response.read())


def test_eight_clients_get_their_own_results_and_files(gradio_url):
    notes = [f"client {i}" for i in range(CLIENTS)]
    with ThreadPoolExecutor(CLIENTS) as pool:
        results = list(pool.map(lambda n: call(gradio_url, n), notes, timeout=120))

    for note, (session, _, report) in zip(notes, results, strict=True):
        assert report["note"] == note
        assert report["session"] == session
    server_paths = {file_data["path"] for _, file_data, _ in results}
    assert len(server_paths) == CLIENTS  # no file shared between sessions
    assert len({session for session, _, _ in results}) == CLIENTS
    _, _, after = call(gradio_url, "after")  # the server still serves a fresh client
    assert after["note"] == "after"
