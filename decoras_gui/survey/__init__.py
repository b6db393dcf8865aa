"""Survey scale: thousands of images detected on a Dask cluster, resumable and fault tolerant.

* :mod:`.inputs` -- the images of a run (files, or the FITS images of a folder) and their output names;
* :mod:`.manifest` -- what became of every input, one JSON line per outcome (a rerun does what is left);
* :mod:`.worker` -- what runs on a Dask worker: the model, loaded once per worker process, and one image;
* :mod:`.engine` -- the run: a ``LocalCluster`` or an existing scheduler, the tasks, the manifest, events;
* :mod:`.merge` -- the survey catalogue: every image's sources in one table (Parquet, FITS or ECSV);
* :mod:`.trials` -- AutoML trials on the same cluster, through the study's shared storage.

Nothing here imports Qt: the window's File > Detect in Folder runs :func:`.engine.run_survey` in a
thread and shows its events.
"""
