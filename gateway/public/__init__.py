"""What the gateway shows anyone without signing in: the public statistics (a page and open data)."""
