"""Sending a request to Kling's API and fetching the video: keys, token, HTTP client, error lines."""
