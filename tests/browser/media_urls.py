"""The site's URLs plus /media/ served from the current MEDIA_ROOT (tests set it per test).

The site serves media only with DEBUG on, and tests run with DEBUG off; image items in browser
tests load their pictures from here.
"""

from django.conf import settings
from django.urls import re_path
from django.views.static import serve

from labeling.site.urls import urlpatterns as site_urlpatterns


def media(request, path):
    return serve(request, path, document_root=settings.MEDIA_ROOT)


# First: the site's own media view serves only files of a job (exports.media), and these
# tests put images straight into storage.
urlpatterns = [re_path(r"^media/(?P<path>.*)$", media), *site_urlpatterns]
