"""Build metadata read from settings.ini (nbdev 2 convention)."""

from configparser import ConfigParser
import setuptools


config = ConfigParser(delimiters=['='])
config.read('settings.ini', encoding='utf-8')
cfg = config['DEFAULT']
requirements = cfg.get('requirements', '').split()
dev_requirements = (cfg.get('dev_requirements') or '').split()
setuptools.setup(
    name=cfg['lib_name'], version=cfg['version'], description=cfg['description'],
    license=cfg['license'], author=cfg['author'], author_email=cfg['author_email'],
    packages=setuptools.find_namespace_packages(include=['aitrader', 'aitrader.*']),
    include_package_data=True, install_requires=requirements,
    extras_require={'dev': dev_requirements}, python_requires='>=' + cfg['min_python'],
    zip_safe=False,
    entry_points={'console_scripts': cfg.get('console_scripts', '').split(),
                  'nbdev': [f"{cfg['lib_path']}={cfg['lib_path']}._modidx:d"]},
)
