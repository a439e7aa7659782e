"""The Learn tab's note on class mode (learn_notes.ALL_NOTES takes it): what it does, how students reach the laptop,
and what was measured (README, "Class mode"; BENCHMARKS.md, the class sections)."""

CLASS_NOTES = r"""
### Class mode: teach a class with it, see it on **Class**
Start a class on the **Class** tab: the students open its join link or scan its QR code on their own phones and
laptops, and every drawing they make on **Draw** comes to your board when they lift the pen: what the classifier
reads, its star on the VAE-2d's latent map, its score under a challenge ("draw a 3", "fool the classifier", "what
the VAE rebuilds worst", "an empty part of the map"). Click a drawing to show it big on every student's screen; the
cross removes it. **Follow me** brings their pages to your tab, dataset, Latent sliders model (its class, every
number of its code, the seed) and Toy lab lesson (and Play/Pause); a student who wanders off presses *follow the
teacher* to come back. *Download the class* gives the drawings, a CSV and the board.

The students' devices must reach this computer, on the same network:

```bash
python app.py --host 0.0.0.0 --auth class:apple42   # listen on the network (it warns), with a password for the class
hostname -I                                         # this computer's address, e.g. 192.168.1.20
# open http://192.168.1.20:7860 here, not 127.0.0.1: the join link is made from the address your browser shows
```

The class lives in a small database (`runs/classes/`): if the app stops and starts again, no drawing is lost and the
students' pages reconnect by themselves. Past one machine, give each class its own host's address (the join link
points the students there). How a class of 60 fares on a 2-core machine is measured in BENCHMARKS.md (class mode):
keep the laptop free of other heavy work during a lesson, as a busy machine answers the class seconds late.
"""
