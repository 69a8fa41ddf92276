"""A model server speaking Label Studio's ML backend protocol, started on 127.0.0.1 (port 0) by
the tests: `GET /health`, `POST /setup`, `POST /predict`, `POST /train`, `POST /webhook`.

Its model is real: scikit-learn's TF-IDF and logistic regression, fitted on the annotations
Quorum sends to /train (the project's resolved labels), for the first <Choices> control of the
label config it is given. Before any training it answers an empty prediction per task (a model
that has nothing to say yet). `delay` makes every /predict slow; `bad_labels` makes it answer a
label the config does not have; `train_path_missing` makes /train answer 404 (backends that
only take the /webhook START_TRAINING event).

(label-studio-ml does not install beside this project's Flask 3 stack: it pins Flask 1.1.)
"""

from __future__ import annotations

import json
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from typing import Any

from tests.loopback import QuietHandler, loopback_serve, loopback_stop


def choices_control(label_config: str) -> tuple[str, str, list[str]]:
    """(control name, the field it reads, its labels) of the config's first <Choices>."""
    root = ET.fromstring(label_config)
    control = root.find(".//Choices")
    labels = [c.get("value") for c in control.findall("Choice")]
    return control.get("name"), control.get("toName"), labels


@dataclass
class MLBackend:
    delay: float = 0.0
    bad_labels: bool = False
    train_path_missing: bool = False
    model: Any = None
    version: int = 0
    requests: list[tuple[str, dict]] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def model_version(self) -> str:
        return f"tfidf-logreg-v{self.version}" if self.version else "untrained"

    def paths(self, path: str) -> list[dict]:
        return [body for p, body in self.requests if p == path]

    def fit(self, tasks: list[dict], label_config: str) -> int:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline

        name, source, _ = choices_control(label_config)
        texts, labels = [], []
        for task in tasks:
            for annotation in task.get("annotations", []):
                for result in annotation["result"]:
                    if result["from_name"] == name and result["type"] == "choices":
                        texts.append(task["data"][source])
                        labels.append(result["value"]["choices"][0])
        if len(set(labels)) < 2:
            raise ValueError("training needs at least two labels")
        self.model = make_pipeline(TfidfVectorizer(), LogisticRegression(max_iter=1000))
        self.model.fit(texts, labels)
        self.version += 1
        return len(texts)

    def predict(self, tasks: list[dict], label_config: str) -> list[dict]:
        if self.delay:
            time.sleep(self.delay)
        if self.model is None:
            return [{"result": [], "score": None, "model_version": self.model_version}] * len(tasks)
        name, source, _ = choices_control(label_config)
        probabilities = self.model.predict_proba([t["data"][source] for t in tasks])
        classes = list(self.model.classes_)
        predictions = []
        for row in probabilities:
            best = int(row.argmax())
            label = "definitely-not-a-label" if self.bad_labels else classes[best]
            predictions.append(
                {
                    "result": [
                        {
                            "from_name": name,
                            "to_name": source,
                            "type": "choices",
                            "value": {"choices": [label]},
                        }
                    ],
                    "score": float(row[best]),
                    "model_version": self.model_version,
                }
            )
        return predictions

    def start(self) -> MLBackend:
        backend = self

        class Handler(QuietHandler):
            def answer(self, code: int, body: dict) -> None:
                raw = json.dumps(body).encode()
                try:
                    self.send_response(code)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(raw)))
                    self.end_headers()
                    self.wfile.write(raw)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting (the time-limit test)

            def do_GET(self):  # noqa: N802
                if self.path == "/health":
                    self.answer(200, {"status": "UP", "model_class": "TfidfLogReg"})
                else:
                    self.answer(404, {"error": "not found"})

            def do_POST(self):  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])) or b"{}")
                backend.requests.append((self.path, body))
                if self.path == "/setup":
                    self.answer(200, {"model_version": backend.model_version})
                elif self.path == "/predict":
                    results = backend.predict(body["tasks"], body["label_config"])
                    self.answer(200, {"results": results, "model_version": backend.model_version})
                elif self.path == "/train" and not backend.train_path_missing:
                    count = backend.fit(body["annotations"], body["label_config"])
                    self.answer(
                        201,
                        {
                            "job_id": backend.version,
                            "trained_on": count,
                            "model_version": backend.model_version,
                        },
                    )
                elif self.path == "/webhook" and body.get("action") == "START_TRAINING":
                    backend.fit(body["annotations"], body["project"]["label_config"])
                    self.answer(201, {"model_version": backend.model_version})
                else:
                    self.answer(404, {"error": "not found"})

        self.server = loopback_serve(Handler)
        return self

    def stop(self) -> None:
        loopback_stop(self.server)
