"""Test doubles for driving the real agent stack offline (see `fake_anthropic`)."""
