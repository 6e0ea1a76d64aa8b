"""Published data files in; one tidy, traceable observation table out (see `load.load_dataset`).

readers/ reads each publisher's layouts; mapping ties series to the catalog and areas to countries;
resolve chooses between sources; cache stores the result; check reports on it; fetch downloads.
"""
