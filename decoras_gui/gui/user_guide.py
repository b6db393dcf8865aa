"""Help > User Guide: the Markdown pages of docs/ (installed with the package) in a browser
window of their own, images and links between pages included; works offline and in the bundle."""

from __future__ import annotations

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices, QImage, QTextDocument
from PySide6.QtWidgets import QDialog, QHBoxLayout, QPushButton, QTextBrowser, QVBoxLayout, QWidget

from ..paths import docs_dir

HOME = "index.md"
IMAGE_WIDTH = 820  # screenshots are shown at most this wide (the list indent and margins fit beside)


class GuideBrowser(QTextBrowser):
    """A QTextBrowser that shows screenshots scaled to the page, not at full size."""

    def loadResource(self, kind: int, url: QUrl):
        resource = super().loadResource(kind, url)
        if kind == QTextDocument.ResourceType.ImageResource.value and resource is not None:
            image = resource if isinstance(resource, QImage) else QImage.fromData(resource)
            if not image.isNull() and image.width() > IMAGE_WIDTH:
                return image.scaledToWidth(IMAGE_WIDTH, Qt.TransformationMode.SmoothTransformation)
            return image
        return resource


class UserGuide(QDialog):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("decoras-gui user guide")
        self.resize(980, 820)
        self.browser = GuideBrowser(self)
        self.browser.setOpenLinks(False)  # handled below: pages here, web links outside
        self.browser.anchorClicked.connect(self.follow)
        self.browser.setSearchPaths([str(docs_dir())])
        back, home = QPushButton("Back", self), QPushButton("Contents", self)
        back.clicked.connect(self.browser.backward)
        home.clicked.connect(lambda: self.show_page(HOME))
        buttons = QHBoxLayout()
        buttons.addWidget(back)
        buttons.addWidget(home)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(buttons)
        layout.addWidget(self.browser)
        self.show_page(HOME)

    def show_page(self, name: str) -> None:
        url = QUrl.fromLocalFile(str(docs_dir() / name))
        self.browser.setSource(url, QTextDocument.ResourceType.MarkdownResource)

    def follow(self, url: QUrl) -> None:
        if url.scheme() in ("http", "https", "mailto"):
            QDesktopServices.openUrl(url)
            return
        target = self.browser.source().resolved(url)
        if target.path().endswith(".md"):
            self.browser.setSource(target, QTextDocument.ResourceType.MarkdownResource)
        else:
            QDesktopServices.openUrl(target)

    @property
    def page(self) -> str:
        return self.browser.source().fileName()
