import BerthCtl

await Berthctl.entry()
