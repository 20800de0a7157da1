"""The course's grading engine, built on nbgrader 0.9.6 (instructor-side).

``python -m autograder release --out DIR``      student notebooks
``python -m autograder grade ASSIGNMENT SUBMITTED --out OUT``
                                                 grades, feedback, grades.csv
"""
