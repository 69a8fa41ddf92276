"""Fixtures of the monitoring tests."""

import pytest

from tests.labeling.monitor.simulation import monitored_project


@pytest.fixture
def monitored(project, annotator):
    return monitored_project(project, annotator)
