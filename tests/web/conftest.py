from tests.servers.web import fake_web

__all__ = ["fake_web"]
