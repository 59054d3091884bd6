"""The ecgrecon desktop viewer (PySide6 + pyqtgraph). Entry point: :func:`ecgrecon.gui.app.main`."""
