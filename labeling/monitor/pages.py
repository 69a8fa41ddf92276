"""Model health pages for leads (server-rendered)."""


def model_health(request, pk):
    raise NotImplementedError


def rule_editor(request, pk):
    raise NotImplementedError
