"""The model server (``ridgeline serve``) and batch scoring (``ridgeline predict``): docs/serving.md.

Runs in its own process; imports services, flavors and the client, never the tracking server's package.
"""
