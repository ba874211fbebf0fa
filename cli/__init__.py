"""Headless commands of ``main.py`` (argparse); each module owns one command group."""
