"""Lesson support: settings and profiles, exercises and their checkers, labs, figures, widgets, results."""
