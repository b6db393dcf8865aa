"""PyInstaller's own QtGui hook, without the Qt plugins a desktop app on Linux never loads
(hooks here take precedence): the GTK 3 platform theme (the app draws itself with Fusion and
its own palette; the plugin would pull cairo, pango, gdk-pixbuf and friends into the bundle
and mix them with the system's GTK), and the embedded-device platforms and input drivers
(EGLFS, linuxfb, VNC, Vulkan display, evdev, TUIO). Kept: xcb (X11), wayland, offscreen,
minimal, the desktop-portal theme, image formats and the SVG icon engine.
"""

from PyInstaller.utils.hooks.qt import add_qt6_dependencies

DROPPED = ("/platformthemes/libqgtk3.so", "/platforms/libqeglfs.so", "/platforms/libqlinuxfb.so",
           "/platforms/libqminimalegl.so", "/platforms/libqvkkhrdisplay.so", "/platforms/libqvnc.so",
           "/egldeviceintegrations/", "/generic/")

hiddenimports, binaries, datas = add_qt6_dependencies(__file__)
binaries = [(src, dest) for src, dest in binaries if not any(part in src.replace("\\", "/") for part in DROPPED)]
